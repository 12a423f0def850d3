-- name: delete_student
delete from student;
