package io.herald.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;

import io.herald.console.ActionRefused;
import io.herald.console.FailureSearch;
import io.herald.security.JolokiaOwnSiteOnly;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.method.HandlerMethod;

/**
 * Edges of the operator's filters and of the guarded paths, found by a review of the day's changes: the last day a "to" can
 * be, "from" after a "to" date, Jolokia's path spelt with an escaped letter, HEAD with an unknown parameter.
 */
class RequestEdgesTest {

    /** A date 'to' of the last day the filters accept: the whole of 9999-12-31 is a valid range. */
    @Test
    void theLastDayAFilterAcceptsCanBeATo() {
        assertThat(FailureSearch.instant("9999-12-31", "to")).isEqualTo(Instant.parse("9999-12-31T00:00:00Z"));
        assertThatCode(() -> FailureSearch.until("9999-12-31", "to")).doesNotThrowAnyException();
    }

    /** README: "from later than to ... is refused with 400 and the reason, never answered with an empty list". */
    @Test
    void aFromDateAfterAToDateIsStillRefused() {
        FailureSearch search = new FailureSearch(null, null);   // the check comes before any query
        FailureSearch.Filter laterFrom = new FailureSearch.Filter(null, null, null, null, null, null, null, "2026-12-07", "2026-12-06");
        assertThatThrownBy(() -> search.find(laterFrom, 10)).isInstanceOf(ActionRefused.InvalidInput.class);
    }

    /** The same address with a letter percent-encoded reaches Jolokia (Tomcat decodes it); another site's read must still be refused. */
    @Test
    void anotherSitesReadIsRefusedWhateverTheSpellingOfThePath() {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/actuator/%6Aolokia/read/java.lang:type=Memory");
        request.setServletPath("/actuator/jolokia");
        request.setPathInfo("/read/java.lang:type=Memory");
        request.addHeader("Sec-Fetch-Site", "cross-site");
        assertThat(new JolokiaOwnSiteOnly().matches(request)).isTrue();
    }

    static class Handlers {
        public String byValue(@RequestParam(value = "week", required = false) String w) {
            return w;
        }
    }

    /** A HEAD is answered by the GET handler: an unknown parameter should be refused there as well. */
    @Test
    void aHeadWithAnUnknownParameterIsRefusedLikeAGet() throws Exception {
        HandlerMethod handler = new HandlerMethod(new Handlers(), Handlers.class.getMethod("byValue", String.class));
        MockHttpServletRequest known = new MockHttpServletRequest("GET", "/api/x");
        known.setParameter("week", "2026-W47");
        assertThat(new KnownParametersOnly().preHandle(known, new MockHttpServletResponse(), handler)).as("@RequestParam(value=)").isTrue();
        MockHttpServletRequest head = new MockHttpServletRequest("HEAD", "/api/x");
        head.setParameter("customerId", "cus_x");
        assertThat(new KnownParametersOnly().preHandle(head, new MockHttpServletResponse(), handler)).isFalse();
    }
}
