/**
 * Option schemas: an optimizer's options as data (kind, default, range, one line of meaning).
 * The constructor validates with them, `getConfig` serializes from them, and the text interface
 * (the CLI's `gsam(alpha=0.3)`, its help, the method list) reads them: one declaration each.
 */
import {
  checkBoolean,
  checkChoice,
  checkFunction,
  checkKnownOptions,
  checkNumber,
  optionError,
  type NumberRange,
} from './validate.js';

export interface OptionBase {
  /** One line for help texts and the docs. */
  doc: string;
}

/** A number; `null` stands for "off" where `nullable`. A function default sees earlier values. */
export interface NumberOption extends OptionBase, NumberRange {
  kind: 'number';
  default: number | null | ((resolved: Readonly<Record<string, unknown>>) => number);
  /** The default in words, where it is computed (`0.05 (0.5 when adaptive)`). */
  defaultDoc?: string;
  nullable?: boolean;
  /** The range's lower bound is another option's value when that one is set (GSAM's lrMax > lrMin). */
  minFrom?: string;
  /** The range's upper bound is another option's value (GSAM's rhoMin <= rho). */
  maxFrom?: string;
}

export interface BooleanOption extends OptionBase {
  kind: 'boolean';
  default: boolean;
}

export interface ChoiceOption extends OptionBase {
  kind: 'choice';
  choices: readonly string[];
  default: string;
}

/** Free text, checked by `check` (returns what was expected, or null when the text is fine). */
export interface TextOption extends OptionBase {
  kind: 'text';
  default: string | null;
  check?: (value: string) => string | null;
}

/** A callback: never serialized, absent from the text interface. */
export interface FunctionOption extends OptionBase {
  kind: 'function';
}

export type OptionSpec = NumberOption | BooleanOption | ChoiceOption | TextOption | FunctionOption;
export type OptionSchema = Readonly<Record<string, OptionSpec>>;

/** The kind of spec an option of type T takes. */
export type SpecFor<T> = [T] extends [number]
  ? NumberOption
  : [T] extends [boolean]
    ? BooleanOption
    : [T] extends [string]
      ? ChoiceOption | TextOption
      : FunctionOption;

/** The schema an options interface must have: every key, each of the matching kind. */
export type SchemaOf<T> = { readonly [K in keyof Required<T>]-?: SpecFor<NonNullable<T[K]>> };

/** Options after defaults: every key present (null where a nullable option is off). */
export type Resolved<T> = { readonly [K in keyof Required<T>]-?: Exclude<T[K], undefined> };

export function numberOption(spec: Omit<NumberOption, 'kind'>): NumberOption {
  return { kind: 'number', ...spec };
}

export function booleanOption(defaultValue: boolean, doc: string): BooleanOption {
  return { kind: 'boolean', default: defaultValue, doc };
}

export function choiceOption<C extends string>(
  choices: readonly C[],
  defaultValue: C,
  doc: string,
): ChoiceOption {
  return { kind: 'choice', choices, default: defaultValue, doc };
}

export function textOption(spec: Omit<TextOption, 'kind'>): TextOption {
  return { kind: 'text', ...spec };
}

export function functionOption(doc: string): FunctionOption {
  return { kind: 'function', doc };
}

/** `schema` with other defaults (a variant's own ρ, say); the rest of each spec is kept. */
export function withDefaults<S extends OptionSchema>(
  schema: S,
  defaults: { readonly [K in keyof S]?: unknown },
): S {
  const out: Record<string, OptionSpec> = { ...schema };
  for (const [key, value] of Object.entries(defaults)) {
    const spec = schema[key];
    if (spec === undefined || spec.kind === 'function') {
      throw new Error(`withDefaults: '${key}' is not an option with a default in this schema.`);
    }
    out[key] = { ...spec, default: value, defaultDoc: undefined } as OptionSpec;
  }
  return out as S;
}

/**
 * Validates `given` against `schema` in the schema's order and fills in defaults. Unknown keys are
 * refused with the known ones listed; `undefined` means "the default", `null` too except where
 * the option is nullable (then it means "off").
 */
export function resolveOptions<T extends object>(
  owner: string,
  schema: OptionSchema,
  given: T,
): Resolved<T> {
  checkKnownOptions(owner, given, Object.keys(schema));
  const values = given as Record<string, unknown>;
  const resolved: Record<string, unknown> = {};
  // Given values and constant defaults first, then defaults computed from other options, then
  // ranges bounded by another option's value.
  const phase = (key: string, spec: OptionSpec): number =>
    spec.kind === 'number' && (spec.maxFrom !== undefined || spec.minFrom !== undefined)
      ? 2
      : spec.kind === 'number' && values[key] == null && typeof spec.default === 'function'
        ? 1
        : 0;
  for (const step of [0, 1, 2]) {
    for (const [key, spec] of Object.entries(schema)) {
      if (phase(key, spec) === step)
        resolved[key] = resolveOne(owner, key, spec, values[key], resolved);
    }
  }
  return Object.fromEntries(Object.keys(schema).map((key) => [key, resolved[key]])) as Resolved<T>;
}

function resolveOne(
  owner: string,
  key: string,
  spec: OptionSpec,
  value: unknown,
  resolved: Record<string, unknown>,
): unknown {
  switch (spec.kind) {
    case 'number': {
      if (value == null) {
        if (spec.default === null) return null;
        if (spec.nullable && value === null) return null;
        value = typeof spec.default === 'function' ? spec.default(resolved) : spec.default;
      }
      const bound = (from: string | undefined, fallback: number | undefined) =>
        from === undefined ? fallback : ((resolved[from] as number | null) ?? fallback);
      const min = bound(spec.minFrom, spec.min);
      const max = bound(spec.maxFrom, spec.max);
      return checkNumber(owner, key, value, {
        ...spec,
        ...(min === undefined ? {} : { min }),
        ...(max === undefined ? {} : { max }),
      });
    }
    case 'boolean':
      return checkBoolean(owner, key, value ?? spec.default);
    case 'choice':
      return checkChoice(owner, key, value ?? spec.default, spec.choices);
    case 'text': {
      const text = value ?? spec.default;
      if (text === null) return null;
      if (typeof text !== 'string') throw optionError(owner, key, text, 'a string');
      const expected = spec.check?.(text) ?? null;
      if (expected !== null) throw optionError(owner, key, text, expected);
      return text;
    }
    case 'function':
      return value == null ? null : checkFunction(owner, key, value);
  }
}

/** The options of `resolved` that `getConfig` stores (numbers, flags, choices and text). */
export function serializableOptions(
  schema: OptionSchema,
  resolved: Readonly<Record<string, unknown>>,
): Record<string, number | boolean | string | null> {
  const out: Record<string, number | boolean | string | null> = {};
  for (const [key, spec] of Object.entries(schema)) {
    if (spec.kind !== 'function') out[key] = resolved[key] as number | boolean | string | null;
  }
  return out;
}

/** One line per option for help texts: `alpha (number >= 0, default 0.4): weight of …`. */
export function describeOptions(schema: OptionSchema): string[] {
  return Object.entries(schema)
    .filter(([, spec]) => spec.kind !== 'function')
    .map(([key, spec]) => `${key} (${describeKind(spec)}): ${spec.doc}`);
}

function describeKind(spec: OptionSpec): string {
  switch (spec.kind) {
    case 'number': {
      const range: string[] = [];
      if (spec.min !== undefined)
        range.push(`${spec.minInclusive === false ? '>' : '>='} ${spec.min}`);
      if (spec.maxFrom !== undefined) range.push(`<= ${spec.maxFrom}`);
      else if (spec.max !== undefined) {
        range.push(`${spec.maxInclusive === false ? '<' : '<='} ${spec.max}`);
      }
      const kind = spec.integer ? 'integer' : 'number';
      const fallback =
        spec.default === null
          ? 'default off'
          : typeof spec.default === 'function'
            ? `default ${spec.defaultDoc ?? 'from other options'}`
            : `default ${spec.default}`;
      return `${[kind, range.join(' and ')].filter(Boolean).join(' ')}, ${fallback}`;
    }
    case 'boolean':
      return `true|false, default ${spec.default}`;
    case 'choice':
      return `${spec.choices.join('|')}, default ${spec.default}`;
    case 'text':
      return `text, default ${spec.default ?? 'none'}`;
    case 'function':
      return 'function';
  }
}
