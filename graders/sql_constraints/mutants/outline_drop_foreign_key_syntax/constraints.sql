-- name: drop_student_fk
alter table student drop foreign key(d_id);
