-- name: create_choose
create table choose (
    cs_id int primary key,
    cours_id int primary key,
    foreign key(cs_id) references student(s_id),
    foreign key(cours_id) references cours(c_id)
);
