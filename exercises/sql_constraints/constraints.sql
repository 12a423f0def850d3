-- Constraints and relations between tables: the statements of README.md, each under its `-- name:` line.
-- The checks find each statement by its name; the tables they start from are described in README.md.

-- TODO(task 1): create the table member: id int that refuses NULL, name varchar(20) that accepts it.
-- name: create_member

-- TODO(task 1): make member.name (varchar(20)) refuse NULL.
-- name: name_not_null

-- TODO(task 1): make member.name (varchar(20)) accept NULL again.
-- name: name_nullable

-- TODO(task 2): create customer_a (id int, phone char(11)) with `unique key` in phone's definition.
-- name: unique_in_column

-- TODO(task 2): create customer_b (id int, phone char(11)) with `unique key(phone)` after the columns.
-- name: unique_as_table_key

-- TODO(task 2): add a unique key on phone to the existing table customer_c.
-- name: unique_added

-- TODO(task 2): drop the unique key on phone of customer_d.
-- name: unique_dropped

-- TODO(task 3): create book (id int, title varchar(20) not null) with id as its primary key.
-- name: primary_in_column

-- TODO(task 3): make id the primary key of the existing table book_b.
-- name: primary_added

-- TODO(task 3): drop the primary key of book_c.
-- name: primary_dropped

-- TODO(task 4): create ticket (id int, title varchar(20) not null), id an auto_increment primary key starting at 100.
-- name: create_ticket

-- TODO(task 4): make the primary key id of ticket_b auto_increment.
-- name: auto_increment_added

-- TODO(task 5): create profile with the defaults 北京, 10 and the current time.
-- name: create_profile

-- TODO(task 6): create the outline's table school.
-- name: create_school

-- TODO(task 6): create the outline's table student, with the foreign key ds_id to school.
-- name: create_student

-- TODO(task 6): create the outline's table student_detail, whose de_id is also a student's s_id.
-- name: create_student_detail

-- TODO(task 6): drop the foreign key ds_id of student.
-- name: drop_student_fk

-- TODO(task 7): create the outline's table cours.
-- name: create_cours

-- TODO(task 7): create the outline's table choose: a composite primary key and two foreign keys.
-- name: create_choose

-- TODO(task 8): make phone of the existing table customer_e unique, with modify (phone stays char(11)).
-- name: unique_modified

-- TODO(task 8): make id the primary key of the existing table book_d, with modify.
-- name: primary_modified

-- TODO(task 9): create login: id int, email varchar(50) unique, username and nickname varchar(20) not null unique; no primary key.
-- name: create_login
