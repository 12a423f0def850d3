-- name: grant_rights
grant all on test.* to 'test28'@'%';
