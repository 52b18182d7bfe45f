package io.herald.web;

import java.util.ArrayList;
import java.util.List;

import jakarta.servlet.http.HttpServletRequest;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.MediaType;
import org.springframework.web.HttpMediaTypeNotAcceptableException;
import org.springframework.web.accept.ContentNegotiationStrategy;
import org.springframework.web.accept.HeaderContentNegotiationStrategy;
import org.springframework.web.context.request.NativeWebRequest;
import org.springframework.web.servlet.config.annotation.ContentNegotiationConfigurer;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * The operator API answers in JSON whatever the caller's Accept header asks for (or when it is not a media type at all).
 * Without it a refusal asked for as {@code Accept: application/xml} or {@code text/csv} (a retry of a delivery that does not
 * exist, an approval of nothing) ended in a 500 with an empty body: Spring found no way to write the error in that type,
 * and the refusal's words were lost. Other addresses (the console, the actuator) negotiate as before.
 */
@Configuration
public class ApiAnswersJson implements WebMvcConfigurer {

    @Override
    public void configureContentNegotiation(ContentNegotiationConfigurer configurer) {
        configurer.strategies(List.of(new JsonOnTheApi()));
    }

    /** Not a bean of its own: Spring Security asks for the one ContentNegotiationStrategy bean, Spring MVC's manager. */
    private static final class JsonOnTheApi implements ContentNegotiationStrategy {

        private final HeaderContentNegotiationStrategy header = new HeaderContentNegotiationStrategy();

        @Override
        public List<MediaType> resolveMediaTypes(NativeWebRequest request) throws HttpMediaTypeNotAcceptableException {
            HttpServletRequest http = request.getNativeRequest(HttpServletRequest.class);
            boolean api = http != null && http.getRequestURI() != null && http.getRequestURI().startsWith("/api/");
            List<MediaType> asked;
            try {
                asked = header.resolveMediaTypes(request);
            } catch (HttpMediaTypeNotAcceptableException notAMediaType) {
                if (!api) {
                    throw notAMediaType;
                }
                asked = List.of();
            }
            if (!api || asked.equals(MEDIA_TYPE_ALL_LIST)) {
                return asked;
            }
            List<MediaType> withJson = new ArrayList<>(asked);
            withJson.add(MediaType.APPLICATION_JSON);   // last: a type the caller named and Herald can write still comes first
            return withJson;
        }
    }
}
