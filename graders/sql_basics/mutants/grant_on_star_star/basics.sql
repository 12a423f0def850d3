-- name: grant_rights
grant all on *.* to 'test28'@'%';
