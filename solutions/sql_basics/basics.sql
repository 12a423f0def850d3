-- MySQL basics: the statements of README.md, each under its `-- name:` line; the checks find it by that name.
-- Use the names the tasks give (school_db, student, test28): the checks rename school_db and test28 to
-- names of their own while they run, so nothing else on the server is touched.

-- name: who_am_i
select user();

-- name: which_database
select database();

-- name: list_databases
show databases;

-- name: list_tables
show tables;

-- name: describe_student
desc student;

-- `if not exists` turns "already there" from an error into a warning, so the statement can run again.
-- name: create_database
create database if not exists school_db;

-- name: drop_database
drop database if exists school_db;

-- double(4,2): four digits in all, two of them after the point, so 99.99 is the largest value.
-- name: create_table
create table if not exists student (
    id int,
    name varchar(20),
    phone char(11),
    score double(4,2),
    intro text,
    enrolled datetime,
    sex enum('male', 'female')
);

-- name: drop_table
drop table if exists student;

-- name: insert_one
insert into student value(1, '张三', '13800000001', 88.5, '喜欢打篮球', '2024-09-01 08:00:00', 'male');

-- name: insert_rows
insert into student value
    (3, '李四', '13800000003', 92, '爱看书', '2024-09-01 08:30:00', 'female'),
    (4, '王五', '13800000004', 59.5, null, '2024-09-02 09:00:00', 'male');

-- The columns not listed get their default: NULL here.
-- name: insert_columns
insert into student (id, sex) value(2, 'male');

-- Without `where`, update and delete change every row of the table.
-- name: rename_student
update student set name = '赵六' where id = 2;

-- name: raise_low_scores
update student set score = 60 where score < 60;

-- name: delete_student
delete from student where id = 3;

-- name: rename_table
alter table student rename to students;

-- `change` takes the old name, the new name and the full new type.
-- name: change_column
alter table students change phone mobile varchar(20);

-- name: add_first
alter table students add stu_no char(8) first;

-- name: add_after
alter table students add address varchar(50) after name;

-- name: drop_column
alter table students drop intro;

-- '%' lets test28 log in from any host, not only from the server's own machine.
-- name: create_user
create user 'test28'@'%' identified by 'qwe123';

-- school_db.* is every table of school_db; *.* would be every table of every database on the server.
-- name: grant_rights
grant all on school_db.* to 'test28'@'%';

-- `use` takes the bare name: no `database` keyword, no quotes (backquotes are allowed).
-- name: use_school
use school_db;

-- No database in front of the table: it goes into the database `use` selected.
-- name: create_teacher
create table teacher (
    id int,
    name varchar(20)
);

-- name: show_student
show create table student;

-- `show create table student` prints `CONSTRAINT `student_ibfk_1` FOREIGN KEY (`d_id`) ...`: the name MySQL
-- gave the foreign key (table name, _ibfk_, a number). `KEY `d_id`` is the index it needs, not its name.
-- name: drop_school_link
alter table student drop foreign key student_ibfk_1;
