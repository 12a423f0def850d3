-- name: create_user
create user 'test28'@'%';
