-- name: unique_as_table_key
create table customer_b (
    id int,
    phone char(11),
    unique key(id)
);
