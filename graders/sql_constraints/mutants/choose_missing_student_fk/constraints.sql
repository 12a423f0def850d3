-- name: create_choose
create table choose (
    cs_id int,
    cours_id int,
    primary key(cs_id, cours_id),
    foreign key(cours_id) references cours(c_id)
);
