-- name: add_after
alter table students add address varchar(50) after id;
