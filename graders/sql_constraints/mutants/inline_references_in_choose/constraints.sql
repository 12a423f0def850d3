-- name: create_choose
create table choose (
    cs_id int references student(s_id),
    cours_id int references cours(c_id),
    primary key(cs_id, cours_id)
);
