-- name: drop_database
drop database school_db;
