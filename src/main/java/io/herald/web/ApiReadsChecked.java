package io.herald.web;

import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/** The operator API's reads refuse a query parameter their address does not take (KnownParametersOnly). */
@Configuration
public class ApiReadsChecked implements WebMvcConfigurer {

    @Override
    public void addInterceptors(InterceptorRegistry registry) {
        registry.addInterceptor(new KnownParametersOnly()).addPathPatterns("/api/**");
    }
}
