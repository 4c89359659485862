package ai.pela.cli;

import ai.pela.spark.config.Recipe;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * An option whose value is one of an enum's constants, spelled as the recipes spell it ({@link Recipe#choiceOf}:
 * {@code activation-aware} for {@code ACTIVATION_AWARE}), so the command line and the recipe keys take the same words
 * and the choice travels typed from the moment it is read. Picocli builds converters by class: one small subclass per
 * enum.
 */
abstract class Choice<E extends Enum<E>> implements ITypeConverter<E> {
    private final Class<E> type;

    Choice(Class<E> type) {
        this.type = type;
    }

    @Override
    public E convert(String value) {
        try {
            return Recipe.choiceOf(value, type);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException("expected one of " + Recipe.choices(type) + ", got '" + value + "'");
        }
    }
}
