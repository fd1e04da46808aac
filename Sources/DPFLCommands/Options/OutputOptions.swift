import ArgumentParser

/// Output format of a single query: text for people, one JSON object for programs.
enum OutputFormat: String, CaseIterable, Sendable, ExpressibleByArgument {
  case text
  case json
}

/// `--format`, `--batch` and `--timings`, shared by `plan` and `account`.
struct OutputOptions: ParsableArguments {
  @Option(help: "Output format: text for people, json for one JSON object on stdout.")
  var format: OutputFormat = .text

  @Option(
    help: ArgumentHelp(
      "Read queries from a JSON Lines file ('-' for stdin) and print one JSON result per line.",
      discussion:
        "Keys are the flag names in snake_case; flags given on the command line are defaults for every line. A bad line prints {\"error\": …, \"line\": N} and the others still run.",
      valueName: "file"))
  var batch: String?

  @Flag(help: "With --batch, add to each result the seconds its computation took (key 'seconds').")
  var timings = false
}
