-- Queries on the school of README.md: tables class(id, name) and student(id, name, age, class_id).
-- Write each statement under its `-- name:` line; the checks find it by that name.

-- name: zhang_students
select id 学号, name 姓名 from student where name like '张%';

-- name: two_char_li
select id, name from student where name like '李_';

-- name: first_three
select * from student order by id asc limit 3;

-- `limit 3, 2`: skip 3 rows (the offset), then return 2.
-- name: fourth_and_fifth_from_the_end
select * from student order by id desc limit 3, 2;

-- count(*) counts every student; count(age) would skip those whose age is NULL.
-- name: age_stats
select max(age), min(age), sum(age), round(avg(age), 2), count(*) from student;

-- The condition is on the groups (count(*)), so it goes in having; where runs before grouping.
-- name: big_classes
select class_id, count(*) from student where class_id is not null group by class_id having count(*) >= 3;

-- name: older_than_average
select * from student where age > (select avg(age) from student);

-- name: students_with_class
select student.name, class.name from student inner join class on student.class_id = class.id;

-- name: every_student_and_class
select student.name, class.name from student inner join class on student.class_id = class.id;

-- name: every_class_and_student
select class.name, student.name from student right join class on student.class_id = class.id;
