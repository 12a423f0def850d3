-- name: every_student_and_class
select student.name, class.name from student inner join class on student.class_id = class.id;
