-- name: rename_student
update student set name = '赵六';
