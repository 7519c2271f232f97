// Starts DynamoDB Local bound to one host (127.0.0.1 by default) instead of every interface.
// ServerRunner has no bind-address flag, so this builds the server the documented embedded way
// (ServerRunner.createServerFromCommandLineArgs) and sets the host on its Jetty connectors before
// start. Run as a single-file source program: java -cp 'lib/*' DynamoDbLocalOnLoopback.java ARGS...
// The host comes from -Dcdc.bind (default 127.0.0.1); ARGS are ServerRunner's own flags.
import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;

public class DynamoDbLocalOnLoopback {
  public static void main(String[] args) throws Exception {
    String host = System.getProperty("cdc.bind", "127.0.0.1");
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    int bound = 0;
    for (Field field : DynamoDBProxyServer.class.getDeclaredFields()) {
      if (!org.eclipse.jetty.server.Server.class.isAssignableFrom(field.getType())) continue;
      field.setAccessible(true);
      org.eclipse.jetty.server.Server jetty = (org.eclipse.jetty.server.Server) field.get(proxy);
      for (org.eclipse.jetty.server.Connector connector : jetty.getConnectors()) {
        if (connector instanceof org.eclipse.jetty.server.ServerConnector serverConnector) {
          serverConnector.setHost(host);
          bound++;
        }
      }
    }
    if (bound == 0) throw new IllegalStateException("no Jetty connector found to bind to " + host);
    proxy.start();
    System.out.println("DynamoDB Local listening on " + host + " (" + bound + " connector(s))");
    proxy.join();
  }
}
