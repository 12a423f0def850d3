-- name: older_than_average
select * from student where age > avg(age);
