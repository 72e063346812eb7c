// The sample HR schema (infra/local/samples/hr.sql) for MySQL/MariaDB: the same tables, keys and
// rows (8 departments, 240 employees, 720 salaries; salaries cascade from employees), generated
// by the same formulas, for tests that need it on both engines.
export const HR_MYSQL_TABLES = [
  `CREATE TABLE departments (id int PRIMARY KEY, name varchar(100) NOT NULL UNIQUE, cost_center varchar(20) NOT NULL) ENGINE=InnoDB`,
  `CREATE TABLE employees (id int PRIMARY KEY, first_name varchar(50) NOT NULL, last_name varchar(50) NOT NULL, email varchar(100) NOT NULL UNIQUE,
     department_id int NOT NULL, manager_id int NULL, hired_on date NOT NULL,
     FOREIGN KEY (department_id) REFERENCES departments (id), FOREIGN KEY (manager_id) REFERENCES employees (id)) ENGINE=InnoDB`,
  `CREATE TABLE salaries (employee_id int NOT NULL, from_date date NOT NULL, to_date date NULL, amount decimal(10,2) NOT NULL CHECK (amount > 0),
     PRIMARY KEY (employee_id, from_date), FOREIGN KEY (employee_id) REFERENCES employees (id) ON DELETE CASCADE) ENGINE=InnoDB`,
];

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken', 'Frances', 'Niklaus', 'Radia', 'Dennis', 'Leslie', 'John', 'Shafi', 'Tim'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Hamilton', 'Thompson', 'Allen', 'Wirth', 'Perlman', 'Ritchie', 'Lamport', 'Backus', 'Goldwasser', 'Berners-Lee'];
const DEPARTMENTS = ['Engineering', 'Sales', 'Marketing', 'Finance', 'Human Resources', 'Support', 'Operations', 'Legal'];
const day = (base: string, plus: number) => new Date(Date.parse(`${base}T00:00:00Z`) + plus * 86_400_000).toISOString().slice(0, 10);

/** The rows, as INSERT statements (the same values as hr.sql produces). */
export function hrMysqlRows(): string[] {
  const deps = DEPARTMENTS.map((n, i) => `(${i + 1}, '${n}', 'CC-${String(100 * (i + 1)).padStart(4, '0')}')`);
  const emps: string[] = [];
  const sals: string[] = [];
  for (let i = 1; i <= 240; i++) {
    const hired = day('2012-01-02', (i * 37) % 3650);
    emps.push(`(${i}, '${FIRST[(i * 7) % 16]}', '${LAST[(i * 11) % 16]}', 'employee${i}@example.com', ${1 + ((i - 1) % 8)}, ${i <= 8 ? 'NULL' : 1 + ((i - 1) % 8)}, '${hired}')`);
    for (let p = 0; p <= 2; p++) {
      sals.push(`(${i}, '${day(hired, 365 * p)}', ${p < 2 ? `'${day(hired, 365 * (p + 1))}'` : 'NULL'}, ${40000 + ((i * 977) % 60000) + 2500 * p})`);
    }
  }
  return [
    `INSERT INTO departments (id, name, cost_center) VALUES ${deps.join(', ')}`,
    `INSERT INTO employees (id, first_name, last_name, email, department_id, manager_id, hired_on) VALUES ${emps.join(', ')}`,
    `INSERT INTO salaries (employee_id, from_date, to_date, amount) VALUES ${sals.join(', ')}`,
  ];
}
