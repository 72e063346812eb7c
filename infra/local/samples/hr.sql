-- The sample instances' HR schema: 8 departments, 240 employees, 720 salaries, generated
-- deterministically (the same rows on every machine), with primary and foreign keys.
-- Loaded once, in one transaction, into hr_test and hr_prod by infra/local/samples.ts.

CREATE TABLE departments (
  id         integer PRIMARY KEY,
  name       text NOT NULL UNIQUE,
  cost_center text NOT NULL
);

CREATE TABLE employees (
  id            integer PRIMARY KEY,
  first_name    text NOT NULL,
  last_name     text NOT NULL,
  email         text NOT NULL UNIQUE,
  department_id integer NOT NULL REFERENCES departments (id),
  manager_id    integer REFERENCES employees (id),
  hired_on      date NOT NULL
);
CREATE INDEX employees_department_id_idx ON employees (department_id);

CREATE TABLE salaries (
  employee_id integer NOT NULL REFERENCES employees (id) ON DELETE CASCADE,
  from_date   date NOT NULL,
  to_date     date,
  amount      numeric(10, 2) NOT NULL CHECK (amount > 0),
  PRIMARY KEY (employee_id, from_date),
  CHECK (to_date IS NULL OR to_date > from_date)
);

INSERT INTO departments (id, name, cost_center)
SELECT i, (ARRAY['Engineering', 'Sales', 'Marketing', 'Finance', 'Human Resources', 'Support', 'Operations', 'Legal'])[i],
       'CC-' || lpad((100 * i)::text, 4, '0')
FROM generate_series(1, 8) AS i;

-- Employees 1..8 head their departments; everyone else reports to their department's head.
INSERT INTO employees (id, first_name, last_name, email, department_id, manager_id, hired_on)
SELECT i,
       (ARRAY['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken', 'Frances', 'Niklaus',
              'Radia', 'Dennis', 'Leslie', 'John', 'Shafi', 'Tim'])[1 + (i * 7) % 16],
       (ARRAY['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Hamilton', 'Thompson', 'Allen',
              'Wirth', 'Perlman', 'Ritchie', 'Lamport', 'Backus', 'Goldwasser', 'Berners-Lee'])[1 + (i * 11) % 16],
       'employee' || i || '@example.com',
       1 + (i - 1) % 8,
       CASE WHEN i <= 8 THEN NULL ELSE 1 + (i - 1) % 8 END,
       date '2012-01-02' + ((i * 37) % 3650)
FROM generate_series(1, 240) AS i;

-- Three salary periods per employee, a raise each year; the last one is current.
INSERT INTO salaries (employee_id, from_date, to_date, amount)
SELECT e.id,
       e.hired_on + 365 * p,
       CASE WHEN p < 2 THEN e.hired_on + 365 * (p + 1) END,
       (40000 + (e.id * 977) % 60000 + 2500 * p)::numeric(10, 2)
FROM employees AS e, generate_series(0, 2) AS p;
