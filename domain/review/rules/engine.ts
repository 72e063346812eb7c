// Engine rules: storage engine choices.
import { actions, display, rule, withFacts } from '../rule.js';

export const useInnodb = /* @__PURE__ */ rule({
  type: 'engine.mysql.use-innodb',
  title: 'Require InnoDB',
  description: 'InnoDB is the MySQL storage engine with transactions, row locks and crash recovery; other engines (MyISAM, MEMORY, CSV…) lose data on a crash or cannot be rolled back. Reported for CREATE TABLE … ENGINE=, ALTER TABLE … ENGINE= and SET default_storage_engine.',
  engines: ['MYSQL'],
  defaultLevel: 'ERROR',
  check(ctx) {
    const bad = (e: string) => e.replace(/['"`]/g, '').toUpperCase() !== 'INNODB';
    for (const [s, f] of withFacts(ctx.statements, 'CREATE_TABLE')) if (f.engine && bad(f.engine)) ctx.report(s, `Table ${display(f.table)} uses the ${f.engine} engine, not InnoDB.`);
    for (const [s, table, a] of actions(ctx.statements, 'ENGINE')) if (bad(a.engine)) ctx.report(s, `Table ${display(table)} is moved to the ${a.engine} engine, not InnoDB.`, a.at);
    for (const [s, f] of withFacts(ctx.statements, 'SET')) {
      if (f.name.toLowerCase() === 'default_storage_engine' && bad(f.value)) ctx.report(s, `default_storage_engine is set to ${f.value}, not InnoDB.`);
    }
  },
});
