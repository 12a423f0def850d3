-- name: create_ticket
create table ticket (
    id int primary key auto_increment,
    title varchar(20) not null
);
