package io.herald.testsupport;

import com.datasonnet.document.MediaTypes;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.language.datasonnet.DatasonnetExpression;
import org.apache.camel.support.DefaultExchange;

/** Runs a DataSonnet expression (a mapping's text, or resource:file:…) the way the routes do: JSON in, JSON text out. */
public final class DataSonnetRun {

    private DataSonnetRun() {
    }

    public static String evaluate(CamelContext camel, String expressionText, String input) {
        DatasonnetExpression expression = (DatasonnetExpression) camel.resolveLanguage("datasonnet").createExpression(expressionText);
        expression.setBodyMediaType(MediaTypes.APPLICATION_JSON);
        expression.setOutputMediaType(MediaTypes.APPLICATION_JSON);
        expression.setResultType(String.class);
        expression.init(camel);
        Exchange exchange = new DefaultExchange(camel);
        exchange.getMessage().setBody(input);
        return expression.evaluate(exchange, String.class);
    }
}
