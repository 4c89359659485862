package ai.pela.cli;

import ai.pela.zoo.PelaException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code pela} command line: one picocli subcommand per job. Thin by design — each command parses its
 * options and calls into model-zoo (or, for distributed jobs, spark-jobs' trainers).
 *
 * <p>Every failure exits non-zero with one line on stderr naming the file or field and the problem; the stack
 * trace only with {@code --verbose}.
 */
@Command(name = "pela", mixinStandardHelpOptions = true, versionProvider = PelaCli.Version.class,
        description = "PELA: low-rank compression and distillation of vision transformers.",
        subcommands = {ModelInfoCommand.class, CompressCommand.class, PredictCommand.class, BenchStepCommand.class,
                TrainCommands.TrainTeacher.class, TrainCommands.Pretrain.class, EvaluateCommand.class, DemoCommand.class,
                CommandLine.HelpCommand.class})
public final class PelaCli implements Runnable {
    /** Exit code of a problem with the user's input (file, field, option). */
    public static final int EXIT_USER_ERROR = 2;
    /** Exit code of an unexpected internal failure. */
    public static final int EXIT_INTERNAL_ERROR = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit code (tests call this instead of main). */
    public static int execute(String... args) {
        return commandLine().execute(args);
    }

    /** Runs the command line writing to the given streams (tests capture them). */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = commandLine();
        cl.setOut(out);
        cl.setErr(err);
        return cl.execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new PelaCli());
        cl.setExecutionExceptionHandler(PelaCli::handleExecutionException);
        cl.setParameterExceptionHandler(PelaCli::handleParameterException);
        return cl;
    }

    private static int handleExecutionException(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        boolean verbose = parsed.subcommands().stream().anyMatch(p -> p.hasMatchedOption("--verbose"))
                || parsed.hasMatchedOption("--verbose");
        String prefix = "pela " + cl.getCommandName() + ": error: ";
        if (e instanceof PelaException) {
            err.println(prefix + e.getMessage());
        } else {
            err.println(prefix + e.getClass().getSimpleName() + ": " + e.getMessage()
                    + (verbose ? "" : " (run with --verbose for the stack trace)"));
        }
        if (verbose) {
            e.printStackTrace(err);
        }
        err.flush();
        return e instanceof PelaException ? EXIT_USER_ERROR : EXIT_INTERNAL_ERROR;
    }

    private static int handleParameterException(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println("pela " + cl.getCommandName() + ": error: " + e.getMessage()
                + " (see 'pela " + cl.getCommandName() + " --help')");
        err.flush();
        return EXIT_USER_ERROR;
    }

    /** Version from the jar manifest, when packaged. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = PelaCli.class.getPackage().getImplementationVersion();
            return new String[] {"pela-spark " + (v == null ? "(development build)" : v)};
        }
    }
}
