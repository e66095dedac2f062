package io.wharf.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layout's rules, checked on the compiled main classes of every module: this module depends on all of
 * them. A failure names the class and the import that broke the rule.
 */
class ArchitectureTest {
    private static JavaClasses wharf;

    @BeforeAll
    static void importClasses() {
        wharf = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.wharf");
    }

    @Test
    void shouldHaveNoPackageCycles() {
        slices().matching("io.wharf.(**)").should().beFreeOfCycles().check(wharf);
    }

    @Test
    void shouldKeepEachModulesInternalsToItself() {
        noClasses().that().resideOutsideOfPackage("io.wharf.dispatcher..").should().dependOnClassesThat()
                .resideInAPackage("io.wharf.dispatcher.internals..").check(wharf);
        noClasses().that().resideOutsideOfPackage("io.wharf.worker..").should().dependOnClassesThat()
                .resideInAnyPackage("io.wharf.worker.internals..", "io.wharf.worker.docker..").check(wharf);
    }

    @Test
    void shouldKeepTheWorkerOnItsContainerSpi() {
        noClasses().that().resideInAnyPackage("io.wharf.worker", "io.wharf.worker.internals..").and().doNotHaveSimpleName("DockerEngine")
                .should().dependOnClassesThat().resideInAPackage("io.wharf.worker.docker..").check(wharf);
    }

    @Test
    void shouldKeepTheCliAThinLayerOverClientEmbeddedAndTheRolesEntryPoints() {
        noClasses().that().resideInAPackage("io.wharf.cli..").should().dependOnClassesThat()
                .resideInAnyPackage("io.wharf.dispatcher.*..", "io.wharf.worker.*..", "io.wharf.bench..", "org.apache.kafka.streams..")
                .check(wharf);
    }

    @Test
    void shouldKeepTestHelpersOutOfMainCode() {
        noClasses().that().resideOutsideOfPackage("io.wharf.testkit..").should().dependOnClassesThat()
                .resideInAPackage("io.wharf.testkit..").check(wharf);
    }
}
