-- name: drop_student_fk
alter table student drop foreign key if exists ds_id;
