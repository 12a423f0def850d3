-- name: create_profile
create table profile (
    id int primary key,
    city varchar(20) default '北京',
    level int default 10,
    joined datetime
);
