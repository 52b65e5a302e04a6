// Package dotenv reads the secrets files ([secrets] file) of both targets with one set of
// rules, docker compose's env-file rules without interpolation (see Parse).
//
// It is a reader of its own, not github.com/joho/godotenv or compose's fork of it, for one
// measured reason: those expand $VAR and ${VAR} in unquoted and double-quoted values, so a
// secret holding a $ (a bcrypt hash in BASIC_AUTH_USERS, a generated password) would reach
// the app changed, with no error. Everywhere else it reads what godotenv reads, or refuses
// the file naming file:line: godotenv_test.go checks that on a seed corpus and by fuzzing
// (go test -fuzz FuzzParseAgreesWithGodotenv ./internal/dotenv).
package dotenv
