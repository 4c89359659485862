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
                BenchCommand.class, TrainCommands.TrainTeacher.class, TrainCommands.Pretrain.class,
                TrainCommands.TrainHead.class, ForgeScenesCommand.class, ForgeCaptionsCommand.class,
                EvaluateCommand.class, DemoCommand.class,
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
        String userError = userError(e);
        if (userError != null) {
            err.println(prefix + userError);
        } else {
            err.println(prefix + e.getClass().getSimpleName() + ": " + e.getMessage()
                    + (verbose ? "" : " (run with --verbose for the stack trace)"));
        }
        if (verbose) {
            e.printStackTrace(err);
        }
        err.flush();
        return userError != null ? EXIT_USER_ERROR : EXIT_INTERNAL_ERROR;
    }

    /**
     * The message of a problem with the user's input, or null. A PelaException thrown on an executor (a bad image
     * under on-bad-image = fail, say) reaches the driver wrapped in a SparkException, often only as text in its
     * message; it is still the user's problem and is reported as such.
     */
    static String userError(Throwable e) {
        String marker = PelaException.class.getName() + ": ";
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof PelaException) {
                return t.getMessage();
            }
            String m = t.getMessage();
            int at = m == null ? -1 : m.indexOf(marker);
            if (at >= 0) {
                String rest = m.substring(at + marker.length());
                int eol = rest.indexOf('\n');
                return (eol >= 0 ? rest.substring(0, eol) : rest).trim();
            }
        }
        return null;
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
