/** The specs read their schema file relative to the package (`src/test/schema/json/person.json`). */
import { resolve } from "node:path";

process.chdir(resolve(import.meta.dirname, "../../../node_modules/memphis-dev"));
