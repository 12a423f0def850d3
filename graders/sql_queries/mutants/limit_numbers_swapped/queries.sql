-- name: fourth_and_fifth_from_the_end
select * from student order by id desc limit 2, 3;
