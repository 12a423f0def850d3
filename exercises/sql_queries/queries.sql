-- Queries on the school of README.md: tables class(id, name) and student(id, name, age, class_id).
-- Write each statement under its `-- name:` line; the checks find it by that name.

-- TODO(task 1): the id and name of every student whose name starts with 张, as columns 学号 and 姓名.
-- name: zhang_students

-- TODO(task 1): the id and name of every student whose name is 李 and exactly one more character.
-- name: two_char_li

-- TODO(task 2): every column of the first three students by id (smallest first).
-- name: first_three

-- TODO(task 2): ordered by id from the largest, skip three students and return the next two.
-- name: fourth_and_fifth_from_the_end

-- TODO(task 3): one row: max(age), min(age), sum(age), the average age rounded to 2 decimals, the number of students.
-- name: age_stats

-- TODO(task 4): class_id and number of students of every class with at least 3 students.
-- name: big_classes

-- TODO(task 5): every column of the students older than the average age.
-- name: older_than_average

-- TODO(task 6): student name and class name of every student who is in a class (inner join).
-- name: students_with_class

-- TODO(task 6): student name and class name of every student, NULL for those in no class (left join).
-- name: every_student_and_class

-- TODO(task 6): class name and student name of every class, NULL for a class with no students (right join).
-- name: every_class_and_student
