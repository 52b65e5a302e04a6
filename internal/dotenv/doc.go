// Package dotenv reads the secrets files ([secrets] file) of both targets with one set of
// rules: KEY=value lines, # comments, an optional "export ", optional matching quotes.
package dotenv
