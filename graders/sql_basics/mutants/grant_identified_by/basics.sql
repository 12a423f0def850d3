-- name: grant_rights
grant all on school_db.* to 'test28'@'%' identified by 'qwe123';
