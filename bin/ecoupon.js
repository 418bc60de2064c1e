#!/usr/bin/env node
// The package's command. `npm ci` builds dist/ (the `prepare` script), so this runs compiled code.
import "../dist/adapters/cli/main.js"
