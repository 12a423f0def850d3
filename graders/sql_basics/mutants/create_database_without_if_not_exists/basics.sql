-- name: create_database
create database school_db;
