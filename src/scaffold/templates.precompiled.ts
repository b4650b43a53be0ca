/**
 * The shipped templates, precompiled by handlebars and keyed by templateKey(source). Empty here:
 * the build (scripts/build-templates.mjs) writes the real module over
 * dist/scaffold/templates.precompiled.js and bundles it into init's fast entry, so a run neither
 * parses nor compiles template code (the entry's V8 code cache holds it). Run from source, every
 * template is compiled with the full library instead.
 */
import type HandlebarsNamespace from 'handlebars'

const templates: Readonly<Record<string, Parameters<typeof HandlebarsNamespace.template>[0]>> = {}
export default templates
