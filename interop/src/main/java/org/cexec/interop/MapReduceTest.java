package org.cexec.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.examples.WordCount;
import org.apache.hadoop.io.IntWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.mapreduce.Job;
import org.apache.hadoop.mapreduce.lib.input.FileInputFormat;
import org.apache.hadoop.mapreduce.lib.output.FileOutputFormat;
import org.apache.hadoop.mapreduce.v2.MiniMRYarnCluster;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.nodemanager.LinuxContainerExecutor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Level 2, MapReduce: the examples' WordCount on the local file system, on a MiniMRYarnCluster
 * whose NodeManager uses LinuxContainerExecutor and our binary (ApplicationMaster, map and reduce
 * containers, the shuffle reading the map outputs in the user's appcache).
 *
 * <p>The job is submitted by the NodeManager's own account: on the local file system the job
 * client writes the staging dir as the JVM's Unix user with mode 0700, so only that user's
 * containers can localize the job files.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public class MapReduceTest {
  private MiniMRYarnCluster mr;

  @BeforeAll
  void start() throws Exception {
    YarnConfiguration conf = Interop.clusterConf();
    conf.set("yarn.app.mapreduce.am.resource.mb", "512");
    conf.set("yarn.app.mapreduce.am.command-opts", "-Xmx256m");
    conf.set("mapreduce.map.memory.mb", "256");
    conf.set("mapreduce.map.java.opts", "-Xmx160m");
    conf.set("mapreduce.reduce.memory.mb", "256");
    conf.set("mapreduce.reduce.java.opts", "-Xmx160m");
    mr = new LceMiniMrCluster();
    mr.init(conf);
    mr.start();
    Interop.publishConf(mr.getConfig());
    assertTrue(mr.getNodeManager(0).getNMContext().getContainerExecutor() instanceof LinuxContainerExecutor,
        "the NodeManager's executor is " + mr.getNodeManager(0).getNMContext().getContainerExecutor());
  }

  @AfterAll
  void stop() throws Exception {
    Interop.unpublishConf();
    if (mr != null) {
      mr.stop();
    }
  }

  @Test
  void wordCountCompletesWithTheRightCounts() throws Exception {
    Path base = Files.createDirectories(Interop.shared().resolve("wordcount"));
    Path in = Files.createDirectories(base.resolve("in"));
    Files.write(in.resolve("a.txt"), "to be or not to be\nthat is the question\n".getBytes(StandardCharsets.UTF_8));
    Files.write(in.resolve("b.txt"), "be quick\nto the point\n".getBytes(StandardCharsets.UTF_8));
    Path out = base.resolve("out");
    int before = Interop.argvLog().size();

    Job job = Job.getInstance(new Configuration(mr.getConfig()), "cexec-wordcount");
    job.setJarByClass(WordCount.class);
    job.setMapperClass(WordCount.TokenizerMapper.class);
    job.setCombinerClass(WordCount.IntSumReducer.class);
    job.setReducerClass(WordCount.IntSumReducer.class);
    job.setOutputKeyClass(Text.class);
    job.setOutputValueClass(IntWritable.class);
    job.setNumReduceTasks(1);
    FileInputFormat.addInputPath(job, new org.apache.hadoop.fs.Path("file://" + in));
    FileOutputFormat.setOutputPath(job, new org.apache.hadoop.fs.Path("file://" + out));
    assertTrue(job.waitForCompletion(true), "the job failed: " + job.getStatus().getFailureInfo());

    TreeMap<String, Integer> got = new TreeMap<>();
    for (String l : Files.readAllLines(out.resolve("part-r-00000"))) {
      String[] kv = l.split("\t");
      got.put(kv[0], Integer.parseInt(kv[1]));
    }
    TreeMap<String, Integer> want = new TreeMap<>();
    for (String w : "to be or not to be that is the question be quick to the point".split(" ")) {
      want.merge(w, 1, Integer::sum);
    }
    assertEquals(want, got);
    assertTrue(Files.exists(out.resolve("_SUCCESS")));

    // AM + at least one map + one reduce went through the binary's launch.
    String user = Interop.nmUser();
    List<String> calls = Interop.argvLog().subList(before, Interop.argvLog().size());
    long launches = calls.stream().filter(l -> l.startsWith(user + " " + user + " 1 ") && l.endsWith("=> 0")).count();
    assertTrue(launches >= 3, "successful launches (AM, maps, reduce): " + calls);
  }

  /** MiniMRYarnCluster forces DefaultContainerExecutor; this one keeps the configured executor. */
  static final class LceMiniMrCluster extends MiniMRYarnCluster {
    LceMiniMrCluster() {
      super("cexec-mr", 1);
    }

    @Override
    public void serviceInit(Configuration conf) throws Exception {
      super.serviceInit(new YarnConfiguration(conf) {
        @Override
        public void set(String name, String value, String source) {
          if (YarnConfiguration.NM_CONTAINER_EXECUTOR.equals(name)
              && !LinuxContainerExecutor.class.getName().equals(value)) {
            return;
          }
          super.set(name, value, source);
        }
      });
    }
  }
}
