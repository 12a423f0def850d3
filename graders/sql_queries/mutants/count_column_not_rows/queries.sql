-- name: age_stats
select max(age), min(age), sum(age), round(avg(age), 2), count(age) from student;
-- The condition is on the groups (count(*)), so it goes in having; where runs before grouping.
