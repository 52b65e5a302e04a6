// Package schedule parses 5-field cron expressions and runs a job at each time they name, with the clock passed in.
package schedule
