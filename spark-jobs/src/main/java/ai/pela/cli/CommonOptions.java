package ai.pela.cli;

import picocli.CommandLine.Option;

/** Options every command has. */
final class CommonOptions {
    @Option(names = "--verbose", description = "Print stack traces of failures.")
    boolean verbose;
}
