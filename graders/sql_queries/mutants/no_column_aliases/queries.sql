-- name: zhang_students
select id, name from student where name like '张%';
