-- name: create_table
create table if not exists student (
    id int,
    name varchar(20)
    phone char(11),
    score double(4,2),
    intro text,
    enrolled datetime,
    sex enum('male', 'female')
);
