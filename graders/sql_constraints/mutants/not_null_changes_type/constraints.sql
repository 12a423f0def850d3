-- name: name_not_null
alter table member modify name char(10) not null;
