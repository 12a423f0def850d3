-- name: two_char_li
select id, name from student where name like '李%';
