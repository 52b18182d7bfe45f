package io.herald.config;

import java.util.Arrays;
import java.util.stream.Stream;

import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.stereotype.Component;

/**
 * Herald's settings (the herald.* records, each validated when it is bound) are checked before anything connects: the
 * database pool, and Flyway behind it, depend on them. A bad setting used to surface only after Flyway had migrated the
 * production schema, or, with the database unreachable, not at all behind "Connection refused".
 */
@Component
public class SettingsCheckedFirst implements BeanFactoryPostProcessor {

    private static final String DATA_SOURCE = "dataSource";

    @Override
    public void postProcessBeanFactory(ConfigurableListableBeanFactory beans) {
        if (!beans.containsBeanDefinition(DATA_SOURCE)) {
            return;
        }
        String[] settings = Arrays.stream(beans.getBeanNamesForAnnotation(ConfigurationProperties.class))
                .filter(name -> heraldRecord(beans, name)).toArray(String[]::new);
        BeanDefinition dataSource = beans.getBeanDefinition(DATA_SOURCE);
        String[] already = dataSource.getDependsOn() == null ? new String[0] : dataSource.getDependsOn();
        dataSource.setDependsOn(Stream.concat(Arrays.stream(already), Arrays.stream(settings)).distinct().toArray(String[]::new));
    }

    private static boolean heraldRecord(ConfigurableListableBeanFactory beans, String name) {
        Class<?> type = beans.getType(name, false);
        return type != null && type.isRecord() && type.getPackageName().startsWith("io.herald");
    }
}
