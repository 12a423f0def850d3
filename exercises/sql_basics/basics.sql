-- MySQL basics: the statements of README.md, each under its `-- name:` line; the checks find it by that name.
-- Use the names the tasks give (school_db, student, test28): the checks rename school_db and test28 to
-- names of their own while they run, so nothing else on the server is touched.

-- TODO(task 1): the current user.
-- name: who_am_i

-- TODO(task 1): the database in use.
-- name: which_database

-- TODO(task 1): every database you can see.
-- name: list_databases

-- TODO(task 1): the tables of the database in use.
-- name: list_tables

-- TODO(task 1): the columns of the table student.
-- name: describe_student

-- TODO(task 2): create the database school_db, so that running it again is not an error.
-- name: create_database

-- TODO(task 2): drop the database school_db, so that running it again is not an error.
-- name: drop_database

-- TODO(task 3): create the table student of README.md (seven columns), so that running it again is not an error.
-- name: create_table

-- TODO(task 3): drop the table student, so that running it again is not an error.
-- name: drop_table

-- TODO(task 4): insert 张三's row, every column given, in table order.
-- name: insert_one

-- TODO(task 4): insert the rows of 李四 and 王五 in one statement.
-- name: insert_rows

-- TODO(task 4): insert a row giving only id 2 and sex 'male'.
-- name: insert_columns

-- TODO(task 5): set the name of the student with id 2 to 赵六.
-- name: rename_student

-- TODO(task 5): set every score below 60 to 60.
-- name: raise_low_scores

-- TODO(task 5): delete the student with id 3.
-- name: delete_student

-- TODO(task 6): rename the table student to students.
-- name: rename_table

-- TODO(task 6): rename the column phone of students to mobile, of type varchar(20).
-- name: change_column

-- TODO(task 6): add a column stu_no char(8) as the first column of students.
-- name: add_first

-- TODO(task 6): add a column address varchar(50) right after the column name.
-- name: add_after

-- TODO(task 6): drop the column intro.
-- name: drop_column

-- TODO(task 7): create the user 'test28'@'%' with the password qwe123.
-- name: create_user

-- TODO(task 7): give test28 all rights on every table of school_db (and nowhere else).
-- name: grant_rights

-- TODO(task 8): switch to the database school_db.
-- name: use_school

-- TODO(task 8): create the table teacher (id int, name varchar(20)) in the database in use, without naming it.
-- name: create_teacher

-- TODO(task 9): show the statement that creates the table student.
-- name: show_student

-- TODO(task 9): drop the foreign key of student, by the name `show create table student` gives it.
-- name: drop_school_link
