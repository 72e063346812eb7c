// SQL review, the pure core: parse a script with the engine's grammar, check it against rules,
// and tell the runner how to cut it. The API, configs and plan checks build on these.
export { REVIEW_ENGINES, STATEMENT_TYPES, type ReviewEngine, type StatementType, type ParsedStatement, type ParseResult, type ParseError, type ObjectName } from './model.js';
export { parse, split, statementTypes, typesOf, POSTGRES_PARSER_WASM, type ScriptStatement } from './parse.js';
export { review, reviewParsed, type ReviewInput, type ReviewParsedInput } from './review.js';
export { schemaCatalog, type ReviewSchema } from './schema-catalog.js';
export { reviewRuleCatalog, checkRuleConfigs, RECOMMENDED_RULES, SCHEMA_UNKNOWN, SYNTAX_RULES, type CatalogEntry, type ConfigProblem } from './catalog.js';
export type { Advice, Level, RuleConfig, SchemaCatalog, CatalogColumn, CatalogTable, CatalogLookup } from './rule.js';
