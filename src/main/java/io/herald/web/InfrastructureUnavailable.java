package io.herald.web;

import java.io.IOException;

import io.herald.kafka.InfrastructureFaults;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.HandlerExceptionResolver;
import org.springframework.web.servlet.ModelAndView;

/**
 * A console page or API request that met PostgreSQL or Kafka unreachable (InfrastructureFaults) is answered 503 with
 * Retry-After, in the words of OutageInWords (ErrorsInWords writes the body: the API's error shape, or the console's
 * error page), instead of a 500 that blamed Herald. Runs last: a controller's own handler for a fault it can say more
 * about (OperatorActionsApi's bulk retry cut midway) answers first; ErrorsInWords has kept the exception for its words.
 */
@Component
public class InfrastructureUnavailable implements HandlerExceptionResolver, Ordered {

    private static final Logger log = LoggerFactory.getLogger(InfrastructureUnavailable.class);

    @Override
    public ModelAndView resolveException(HttpServletRequest request, HttpServletResponse response, Object handler, Exception failure) {
        if (!InfrastructureFaults.isInfrastructure(failure)) {
            return null;
        }
        log.warn("{} {} answered 503: {} ({})", request.getMethod(), request.getRequestURI(),
                InfrastructureFaults.unavailable(failure), failure.getClass().getSimpleName());
        try {
            response.setHeader("Retry-After", OutageInWords.RETRY_AFTER_SECONDS);
            response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
        } catch (IOException clientGone) {
            return null;
        }
        return new ModelAndView();
    }

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
    }
}
