-- name: big_classes
select class_id, count(*) from student where class_id is not null and count(*) >= 3 group by class_id;
