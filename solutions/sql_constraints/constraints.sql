-- Constraints and relations between tables: the statements of README.md, each under its `-- name:` line.

-- name: create_member
create table member (
    id int not null,
    name varchar(20)
);

-- `modify` restates the whole column: its type, then what should hold for it.
-- name: name_not_null
alter table member modify name varchar(20) not null;

-- name: name_nullable
alter table member modify name varchar(20);

-- name: unique_in_column
create table customer_a (
    id int,
    phone char(11) unique key
);

-- name: unique_as_table_key
create table customer_b (
    id int,
    phone char(11),
    unique key(phone)
);

-- name: unique_added
alter table customer_c add unique key(phone);

-- A key made by `unique key(phone)` is named after its column.
-- name: unique_dropped
alter table customer_d drop key phone;

-- name: primary_in_column
create table book (
    id int primary key,
    title varchar(20) not null
);

-- name: primary_added
alter table book_b add primary key(id);

-- name: primary_dropped
alter table book_c drop primary key;

-- The table option after the closing parenthesis sets where auto_increment starts.
-- name: create_ticket
create table ticket (
    id int primary key auto_increment,
    title varchar(20) not null
) auto_increment = 100;

-- name: auto_increment_added
alter table ticket_b modify id int auto_increment;

-- name: create_profile
create table profile (
    id int primary key,
    city varchar(20) default '北京',
    level int default 10,
    joined datetime default current_timestamp
);

-- name: create_school
create table school (
    id int primary key,
    name varchar(10) not null
);

-- name: create_student
create table student (
    s_id int primary key auto_increment,
    s_name char(10) not null,
    d_id int not null,
    constraint ds_id foreign key(d_id) references school(id)
);

-- One-to-one: the detail's own key is also the student it belongs to.
-- name: create_student_detail
create table student_detail (
    de_id int primary key auto_increment,
    info varchar(10) not null,
    foreign key(de_id) references student(s_id)
);

-- A foreign key is dropped by its constraint name, the one `constraint ds_id` gave it.
-- name: drop_student_fk
alter table student drop foreign key ds_id;

-- name: create_cours
create table cours (
    c_id int primary key,
    c_name char(10) not null
);

-- Many-to-many: one row per (student, course) pair; the composite key allows each pair once.
-- name: create_choose
create table choose (
    cs_id int,
    cours_id int,
    primary key(cs_id, cours_id),
    foreign key(cs_id) references student(s_id),
    foreign key(cours_id) references cours(c_id)
);

-- The outline's third way to add a unique key: restate the column with `modify`, the key at its end.
-- name: unique_modified
alter table customer_e modify phone char(11) unique key;

-- name: primary_modified
alter table book_d modify id int primary key;

-- No primary key declared: the first unique key whose columns are all NOT NULL acts as one (username),
-- so `desc login` shows PRI on username. email may be NULL, so it is passed over; nickname comes after.
-- name: create_login
create table login (
    id int,
    email varchar(50) unique key,
    username varchar(20) not null unique key,
    nickname varchar(20) not null unique key
);
